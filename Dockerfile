# Waymark's production image: gunicorn serving Django, static files collected at build and
# served by whitenoise, running as an unprivileged user. The same image runs the web processes,
# the Celery workers and Celery beat (compose.yaml). Build: docker build -t waymark .
# Where Docker is not available, scripts/image_check.py runs these same steps in a temp venv.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /app
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN /venv/bin/pip install --upgrade pip && /venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    DEBUG=0 \
    PORT=8000 \
    WEB_CONCURRENCY=4
RUN useradd --system --create-home --uid 10001 --home-dir /home/waymark waymark
COPY --from=build /venv /venv
WORKDIR /app
COPY config config
COPY curriculum curriculum
COPY tracker tracker
COPY ops ops
COPY nudges nudges
COPY cohorts cohorts
COPY templates templates
COPY static static
COPY seeds seeds
COPY manage.py pyproject.toml ./
# Static files, hashed and compressed, into the image (whitenoise serves them). The settings
# refuse to start in production without these values; they are placeholders for this step only.
RUN SECRET_KEY=collectstatic-at-build-only SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput \
 && python -m compileall -q /app
USER waymark
EXPOSE 8000
# /healthz is exempt from the HTTPS redirect, for probes that speak plain HTTP from inside.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD python -c \
  "import os,urllib.request as u; h=os.environ.get('ALLOWED_HOSTS','localhost').split(',')[0]; \
   u.urlopen(u.Request('http://127.0.0.1:'+os.environ.get('PORT','8000')+'/healthz', headers={'Host': h}), timeout=4)"
CMD ["sh", "-c", "exec gunicorn config.wsgi --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY} --access-logfile -"]
