"""The Dramatiq worker actors (arrive with the service milestone; see the README's roadmap)."""
