"""Business logic. Services take their collaborators (the runtime, a session) as arguments."""
