// drizzle-kit settings for the factory database (`npm run db:generate:factory`).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './factory/db/schema.ts',
  out: './factory/migrations',
});
