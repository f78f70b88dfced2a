FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false

RUN useradd --create-home --uid 1000 app

# WeasyPrint's text layout (Pango) and the CJK font that labels' Chinese names render in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from pyproject.toml alone, so that code changes keep this layer cached.
# Installed from a scratch folder: the in-tree build leaves build/ and an egg-info behind.
COPY pyproject.toml /tmp/src/
RUN pip install --no-cache-dir /tmp/src && rm -rf /tmp/src

WORKDIR /app
COPY . .

# With DEBUG off the settings refuse to load without SECRET_KEY and ALLOWED_HOSTS: dummies for this step only.
# The code stays root-owned; the app user writes only var/ (created by the settings on import) and media/.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && rm -rf var && mkdir -p var media && chown app:app var media

USER app
EXPOSE 8000
CMD ["gunicorn", "ewtp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
