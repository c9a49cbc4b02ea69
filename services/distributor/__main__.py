"""``python -m services.distributor``: run the distributor service."""

from services.common.runner import serve
from services.distributor.app import create_app
from services.distributor.settings import DistributorSettings

if __name__ == "__main__":
    serve(create_app, default_port=8002, log_level=DistributorSettings().log_level)
