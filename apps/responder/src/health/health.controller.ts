import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { SqsIntakeService } from '../intake';
import { REDIS } from '../tokens';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly sqs: SqsIntakeService,
  ) {}

  /** Alive: the process answers. */
  @Get('health')
  @ApiOperation({ summary: 'Alive: the process answers' })
  @ApiResponse({ status: 200, description: '`{ status: "ok" }`' })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready: Redis answers (incidents can be stored), and the SQS poller runs when configured. */
  @Get('ready')
  @ApiOperation({ summary: 'Ready: Redis answers and the SQS poller runs when configured (for the load balancer)' })
  @ApiResponse({ status: 200, description: '`{ status: "ready", redis: "up", sqs: "polling" | "off" }`' })
  @ApiResponse({ status: 503, description: 'Redis is down or does not answer in time' })
  async ready(): Promise<{ status: 'ready'; redis: 'up'; sqs: 'polling' | 'off' }> {
    let redisUp = false;
    try {
      redisUp = this.redis.status === 'ready' && (await this.redis.ping()) === 'PONG';
    } catch {
      redisUp = false;
    }
    if (!redisUp) throw new ServiceUnavailableException({ status: 'not ready', redis: 'down' });
    return { status: 'ready', redis: 'up', sqs: this.sqs.running ? 'polling' : 'off' };
  }
}
