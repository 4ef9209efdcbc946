module github.com/webhookkit/webhookkit/internal/providertest

go 1.25.0

require (
	github.com/google/go-github/v74 v74.0.0
	github.com/slack-go/slack v0.29.0
	github.com/stretchr/testify v1.12.1
	github.com/stripe/stripe-go/v82 v82.5.1
	github.com/svix/svix-webhooks v1.44.0
	github.com/webhookkit/webhookkit v0.0.0
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/time v0.15.0 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
)

replace github.com/webhookkit/webhookkit => ../..
