# One image for all four services; the service is chosen by the command (python -m services.<name>).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md requirements-runtime.lock ./
# Only the locked, hash-checked runtime set; then the project without resolving anything else.
RUN pip install --no-cache-dir --require-hashes -r requirements-runtime.lock
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir --no-deps .
RUN useradd --system --uid 10001 haven && mkdir -p /data && chown haven /data
USER haven
ENV HAVEN_DATA_DIR=/data HAVEN_ENV=production
EXPOSE 8000
CMD ["python", "-m", "services.intake", "--host", "0.0.0.0", "--port", "8000"]
