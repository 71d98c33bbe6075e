"""The community: posts, comments, reports and moderation (issue 6); ``webapp.app.create_app`` registers its
``COMMUNITY_ROUTE_HANDLERS`` (``webapp.community.controllers``) with the rest of the site."""
