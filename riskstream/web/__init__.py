"""Who may call the worker's HTTP routes: credentials, roles, and the guard in front."""
