"""Messages to members: the outbox written with the change that causes a message, and its delivery."""
