#!/usr/bin/env bash
# Builds TicketZero's image from ./Dockerfile in Azure Container Registry (ACR Tasks: no local Docker needed),
# tags it with the time and the git commit, and hands its name to the next toolkit step.
# Called by teamsapp.yml's `deploy`; needs the Azure CLI signed in (`az login`) and the values `provision` wrote.
#   bash infra/build-image.sh <registry name> <registry login server>     (defaults: the AZURE_CONTAINER_REGISTRY_* env)
set -euo pipefail

AZURE_CONTAINER_REGISTRY_NAME="${1:-${AZURE_CONTAINER_REGISTRY_NAME:-}}"
AZURE_CONTAINER_REGISTRY_LOGIN_SERVER="${2:-${AZURE_CONTAINER_REGISTRY_LOGIN_SERVER:-}}"
: "${AZURE_CONTAINER_REGISTRY_NAME:?is empty: run provision first}"
: "${AZURE_CONTAINER_REGISTRY_LOGIN_SERVER:?is empty: run provision first}"

commit="$(git rev-parse --short HEAD 2>/dev/null || echo local)"
tag="$(date -u +%Y%m%d-%H%M%S)-${commit}"

az acr build \
  --registry "${AZURE_CONTAINER_REGISTRY_NAME}" \
  --image "ticketzero:${tag}" \
  --image "ticketzero:latest" \
  --file Dockerfile \
  .

# The Agents Toolkit reads this line and stores CONTAINER_IMAGE in env/.env.<environment> for the steps that follow.
echo "::set-teamsfx-env CONTAINER_IMAGE=${AZURE_CONTAINER_REGISTRY_LOGIN_SERVER}/ticketzero:${tag}"
