"""Cross-cutting pieces of the site: settings, security, images, the service client, error pages."""
