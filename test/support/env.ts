// Runs in every test file before any import: configuration is read when AppModule is imported.
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.LOG_LEVEL ??= 'silent';
