module github.com/webhookkit/webhookkit/oauth2

go 1.25.0

require (
	github.com/stretchr/testify v1.12.1
	github.com/webhookkit/webhookkit v0.0.0
	golang.org/x/oauth2 v0.36.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/webhookkit/webhookkit => ../
