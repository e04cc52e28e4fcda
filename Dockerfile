# BackCheck image: one image for web (gunicorn), worker (celery) and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY . .
RUN pip install . \
    # Settings refuse to load without SECRET_KEY when DEBUG is false; this
    # throwaway key is only used to collect the admin's static files.
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app backcheck

USER backcheck
EXPOSE 8000

CMD ["gunicorn", "backpain_service.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
