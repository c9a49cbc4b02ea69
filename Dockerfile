# One image for all four services; the service is chosen by the command (python -m services.<name>).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir .
RUN useradd --system --uid 10001 haven && mkdir -p /data && chown haven /data
USER haven
ENV HAVEN_DATA_DIR=/data
EXPOSE 8000
CMD ["python", "-m", "services.intake", "--host", "0.0.0.0", "--port", "8000"]
