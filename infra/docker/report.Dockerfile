# Image for the nightly `shadowdiff report` task and the `shadowdiff serve` service
# (infra/report.yaml, parameter ReportImage). Build from the repository root:
#   docker build -f infra/docker/report.Dockerfile -t shadowdiff-report .
# Only the analysis extra is installed: no collector, no test tooling.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY shadowdiff ./shadowdiff
COPY edge ./edge
COPY collector ./collector
COPY analysis ./analysis
RUN pip install -c constraints.txt '.[analysis]' && rm -rf /src

RUN useradd --system --create-home --uid 10001 shadowdiff
USER shadowdiff
WORKDIR /home/shadowdiff
EXPOSE 8080
# The task definitions set the command (`report ...` via sh -c, or `serve ...`).
ENTRYPOINT ["shadowdiff"]
CMD ["--help"]
