/**
 * Builds the OpenAPI 3.1 document from the contract and its zod schemas. Run by
 * `npm run openapi` (writes docs/openapi.json, which the API serves); a test checks that the
 * committed document matches the schemas.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { OPERATIONS } from './contract';
import { errorSchema } from './schemas';

export function buildOpenApiDocument(version: string) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'sigv4', {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description: 'AWS Signature Version 4 for the execute-api service (API Gateway IAM authorization).',
  });
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: errorSchema } },
  });
  for (const op of OPERATIONS) {
    const spec = op as (typeof OPERATIONS)[number] & {
      pathParams?: never;
      query?: never;
      body?: never;
    };
    registry.registerPath({
      operationId: op.operationId,
      method: op.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete',
      path: op.path,
      summary: op.summary,
      tags: [op.tag],
      security: [{ sigv4: [] }],
      request: {
        ...('pathParams' in op && spec.pathParams ? { params: spec.pathParams } : {}),
        ...('query' in op && spec.query ? { query: spec.query } : {}),
        ...('body' in op && spec.body
          ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } }
          : {}),
      },
      responses: {
        [op.successStatus]: {
          description: 'Success',
          content: { 'application/json': { schema: op.response } },
        },
        400: errorResponse('Invalid request: the message says what to fix.'),
        403: errorResponse('Not allowed (IAM or registry policy).'),
        404: errorResponse('Not found.'),
        409: errorResponse('Conflict with the current state.'),
        500: errorResponse('Internal error (no details are disclosed).'),
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Serverless Model Registry API',
      version,
      description:
        'Registered models, immutable versions, stages, aliases, tags and search. Every route is authorized with AWS IAM (SigV4, service execute-api).',
    },
    servers: [{ url: 'https://{apiId}.execute-api.{region}.amazonaws.com/v1' }],
  });
}
