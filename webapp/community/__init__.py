"""The community: posts, comments, reports and moderation (issue 6).

Register ``COMMUNITY_ROUTE_HANDLERS`` (``webapp.community.controllers``) in ``webapp.app.create_app``; until then
``webapp.community.app.create_app_with_community`` builds the site with them (idempotent).
"""
