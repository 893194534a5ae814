"""Object storage shared by every component: clients built from settings, in one place."""
