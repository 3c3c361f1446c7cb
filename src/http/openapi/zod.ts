import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Adds .openapi() to zod's schemas once, before any HTTP schema is built.
extendZodWithOpenApi(z);

export { z };
