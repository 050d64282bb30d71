"""Operator tooling: the bcsync CLI, the Docker-free local stack and the sandbox store."""
