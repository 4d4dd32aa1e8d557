"""Web blueprints. Nothing imports this package except the app factory."""
