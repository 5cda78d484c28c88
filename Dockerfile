FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production \
    TRUSTSEAL_VAR_DIR=/app/var
WORKDIR /app
RUN useradd --system --uid 10001 --home /app trustseal
COPY pyproject.toml README.md ./
COPY config ./config
COPY fastpath ./fastpath
COPY issuers ./issuers
COPY seals ./seals
COPY workers ./workers
COPY manage.py ./
RUN pip install --no-cache-dir . && mkdir -p /app/var && chown trustseal /app/var
# collectstatic needs settings but no real secrets; throwaway values exist only in this layer.
RUN SECRET_KEY=build FIELD_ENCRYPTION_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    KEY_ENCRYPTION_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    BLIND_INDEX_KEY=build python manage.py collectstatic --noinput
USER trustseal
EXPOSE 8000
# Collected static files (STATIC_ROOT, /app/var/static) are served by granian under /static/.
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "4", "--static-path-mount", "/app/var/static", "config.wsgi:application"]
