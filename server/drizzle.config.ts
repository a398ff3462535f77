// drizzle-kit configuration for the job server: `npm run db:generate:server` writes a new
// migration into server/migrations after a change to server/db/schema.ts.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './server/db/schema.ts',
  out: './server/migrations',
});
