/**
 * CORS on the API functions' answers (functions/handlers/http/cors.ts): only the deployed
 * console's origins (CORS_ALLOWED_ORIGINS) get Access-Control-Allow-Origin; others get none.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { cors, corsHeaders, parseOrigins } from '../../functions/handlers/http/cors';

const CONSOLE = 'https://d111.cloudfront.net';

async function answer(list: string | undefined, origin: string | undefined) {
  const request = {
    event: { headers: origin ? { Origin: origin } : {} } as unknown as APIGatewayProxyEvent,
    response: {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    } as APIGatewayProxyResult,
  };
  await cors(parseOrigins(list)).after!(request as any);
  return request.response.headers as Record<string, string>;
}

describe('CORS for the console', () => {
  it('answers the console’s origin, and exposes the request id', async () => {
    const headers = await answer(`${CONSOLE}, https://console.example.com`, CONSOLE);
    expect(headers).toMatchObject({
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': CONSOLE,
      'Access-Control-Expose-Headers': 'X-Request-Id',
      Vary: 'Origin',
    });
  });

  it('gives other origins, and requests without one, no CORS header', async () => {
    expect(
      (await answer(CONSOLE, 'https://evil.example.com'))['Access-Control-Allow-Origin'],
    ).toBeUndefined();
    expect((await answer(CONSOLE, undefined))['Access-Control-Allow-Origin']).toBeUndefined();
    expect(await answer(undefined, CONSOLE)).toEqual({ 'Content-Type': 'application/json' });
    expect(corsHeaders(parseOrigins(''), CONSOLE)).toEqual({});
  });
});
