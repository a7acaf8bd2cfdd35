"""Developer tools that stay in the repository (run from the checkout's root)."""
