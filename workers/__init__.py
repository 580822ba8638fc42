"""Jobs: the dramatiq broker, the outbox and its relay, and the actors."""
