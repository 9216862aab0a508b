# jobpulse server image. Build from the repository root:
#   docker build -t jobpulse:latest .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/jobpulse --create-home jobpulse
COPY --from=build /install /usr/local
ENV PYTHONUNBUFFERED=1 \
    JOBPULSE_HOST=0.0.0.0 \
    JOBPULSE_PORT=8000 \
    JOBPULSE_DATABASE_URL=sqlite:////var/lib/jobpulse/jobpulse.db
USER jobpulse
WORKDIR /var/lib/jobpulse
VOLUME ["/var/lib/jobpulse"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
ENTRYPOINT ["jobpulse"]
CMD ["serve"]
