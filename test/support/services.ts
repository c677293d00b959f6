// The real servers scripts/test-services.sh starts for the data-source tests (`npm test` runs it
// first). Ports and credentials are fixed there; they are loopback-only test instances.
export const TEST_SERVICES = {
  postgresql: { host: '127.0.0.1', port: 55432, database: 'tiangong_test', user: 'tiangong', password: 'tiangong-test' },
  mysql: { host: '127.0.0.1', port: 53306, database: 'tiangong_test', user: 'tiangong', password: 'tiangong-test' },
  redis: { host: '127.0.0.1', port: 56379, password: 'tiangong-test' },
} as const;
