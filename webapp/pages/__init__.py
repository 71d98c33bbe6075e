"""Pages that belong to no other domain: home, health checks."""
