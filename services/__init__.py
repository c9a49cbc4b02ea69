"""Haven's services. Each imports ``schemas`` and ``services.common``, never another service."""
