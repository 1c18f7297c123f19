// The long tests (several service processes, storms, kills): `npm run test:fire`, also run by CI.
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...base, roots: ['<rootDir>/test/fire'], testRegex: '.*\\.fire\\.ts$', testTimeout: 180000 };
