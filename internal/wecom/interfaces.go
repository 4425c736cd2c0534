package wecom

import "context"

// The client implements every interface; controllers depend on the small ones.
var (
	_ Departments       = (*Client)(nil)
	_ Users             = (*Client)(nil)
	_ AppChats          = (*Client)(nil)
	_ ContactWays       = (*Client)(nil)
	_ Calendars         = (*Client)(nil)
	_ Schedules         = (*Client)(nil)
	_ Messenger         = (*Client)(nil)
	_ CredentialChecker = (*Client)(nil)
)

// Customer corp tags and group welcome templates (corptag.go, welcometemplate.go).
var (
	_ CorpTags              = (*Client)(nil)
	_ GroupWelcomeTemplates = (*Client)(nil)
)

// CredentialChecker proves a connection's corp ID and secret.
type CredentialChecker interface {
	CheckCredentials(ctx context.Context) error
}
