import type Dockerode from 'dockerode'

/**
 * dockerode, loaded when a container is first needed: with ssh2 and docker-modem it took ~270 ms
 * of every CLI start (`inferbench --version` included), and most runs start no container.
 */
export async function loadDockerode(): Promise<typeof Dockerode> {
  const loaded = await import('dockerode')
  return ((loaded as unknown as { default?: typeof Dockerode }).default ?? loaded) as typeof Dockerode
}
