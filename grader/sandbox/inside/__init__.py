"""What runs inside the sandbox: only this folder (and the two package markers above it) is mounted there."""
