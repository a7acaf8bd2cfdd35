"""Groups, memberships and aliases, the peer-expert pool, organisations."""
