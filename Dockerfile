# syntax=docker/dockerfile:1
# Loom's image: `loom serve`, `loom router` and `loom worker` in one. CPU by default; for NVIDIA GPUs:
#   docker build --build-arg VARIANT=cuda -t loom:cuda .
# The CUDA variant links the addon to node-llama-cpp's prebuilt CUDA libraries (its -cuda-ext package carries the
# CUDA runtime), so both variants run on the same slim base; the NVIDIA container toolkit supplies the driver.
ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

# Build: npm ci compiles the llama.cpp addon (native/build.mjs, variant from LOOM_GPU) and makes the default model.
FROM ${NODE_IMAGE} AS build
ARG VARIANT=cpu
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY native ./native
RUN LOOM_GPU=${VARIANT} npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY models ./models
RUN node --import tsx models/ensure-default.ts

# Runtime: the built tree without compilers; tsx runs the TypeScript sources as bin/loom.mjs does everywhere.
FROM ${RUNTIME_IMAGE} AS runtime
ARG VARIANT=cpu
ENV NODE_ENV=production \
    LOOM_HOST=0.0.0.0 \
    LOOM_PORT=8080 \
    LOOM_MODEL_CACHE=/var/cache/loom/models \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    LOOM_VARIANT=${VARIANT}
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /var/cache/loom/models && chown -R node:node /var/cache/loom
USER node
EXPOSE 8080
# Compose and plain `docker run` read this; Kubernetes uses the probes of deploy/k8s/loom.yaml instead.
HEALTHCHECK --interval=5s --timeout=2s --start-period=300s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LOOM_PORT||8080)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/loom.mjs"]
CMD ["serve", "models/tiny.gguf"]
