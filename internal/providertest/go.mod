module github.com/webhookkit/webhookkit/internal/providertest

go 1.25.0

require github.com/webhookkit/webhookkit v0.0.0

require (
	github.com/google/go-github/v74 v74.0.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/slack-go/slack v0.29.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/stripe/stripe-go/v82 v82.5.1 // indirect
	github.com/svix/svix-webhooks v1.44.0 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
)

replace github.com/webhookkit/webhookkit => ../..
