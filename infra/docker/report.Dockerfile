# Image for the nightly `shadowdiff report` task and the `shadowdiff serve` service
# (infra/report.yaml, parameter ReportImage). Build from the repository root:
#   docker build -f infra/docker/report.Dockerfile -t shadowdiff-report .
# The scale extra (analysis plus dask.distributed) is installed, so the same image
# runs the report with `--engine local` or `--engine dask`, and a Dask scheduler or
# worker (`dask scheduler`, `dask worker`). No test tooling.
#   docker build --build-arg EXTRA=analysis ...   for a smaller, local-engine-only image
FROM python:3.11-slim
ARG EXTRA=scale

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY shadowdiff ./shadowdiff
COPY edge ./edge
COPY collector ./collector
COPY analysis ./analysis
RUN pip install -c constraints.txt ".[${EXTRA}]" && rm -rf /src

RUN useradd --system --create-home --uid 10001 shadowdiff
USER shadowdiff
WORKDIR /home/shadowdiff
EXPOSE 8080
# The task definitions set the command (`report ...` via sh -c, or `serve ...`);
# Dask scheduler/worker tasks override the entry point with `dask`.
ENTRYPOINT ["shadowdiff"]
CMD ["--help"]
