# Container image of the reviews service. One image, two processes (see docker-compose.yml):
#   API:        the default CMD below, `reviews serve --host 0.0.0.0 --port 8000`
#   scheduler:  the same image with `reviews scheduler` as its command
# Settings come from the environment (MONGODB_URL, REVIEWS_SECRET_KEY, ...); nothing is baked in.
# Checked statically by tests/test_compose.py (no Docker engine is needed to run those tests).

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# An unprivileged user to run the service; the home directory is where libraries that keep
# per-user data at run time (e.g. NLTK/TextBlob corpora) can write.
RUN groupadd --system --gid 10001 reviews \
    && useradd --system --uid 10001 --gid reviews --create-home --home-dir /home/reviews \
       --shell /usr/sbin/nologin reviews

WORKDIR /app

# The build context is filtered by .dockerignore (no .venv, .git, caches, artifacts, tests).
COPY . /app
RUN pip install --no-cache-dir . \
    && rm -rf /app/build /app/*.egg-info

# Without MONGODB_URL the service keeps the embedded store here (`docker run -v reviews-data:/data ...`): a
# directory the unprivileged user owns, declared a volume so the data outlives the container.
ENV REVIEWS_DATA_DIR=/data
RUN mkdir -p /data && chown reviews:reviews /data
VOLUME ["/data"]

USER reviews

EXPOSE 8000

# python:3.11-slim has no curl/wget: probe /health with the standard library, bypassing any
# HTTP(S)_PROXY set for the service. The request raises on connection errors and on 4xx/5xx
# answers, which exits non-zero and marks the container unhealthy. The scheduler service, which
# serves no HTTP, disables this check in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; r = u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:8000/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["reviews", "serve", "--host", "0.0.0.0", "--port", "8000"]
