// drizzle-kit settings for the fleet database (`npm run db:generate:fleet`).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './fleet/db/schema.ts',
  out: './fleet/migrations',
});
