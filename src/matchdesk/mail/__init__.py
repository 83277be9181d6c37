"""Mail: every outgoing message is an outbox row written in the transaction of the
change that causes it (`outbox.enqueue`), delivered by the worker (`delivery`)."""
