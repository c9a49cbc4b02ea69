"""``python -m services.audit``: run the audit service."""

from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.common.runner import serve

if __name__ == "__main__":
    serve(create_app, default_port=8004, log_level=AuditSettings().log_level)
