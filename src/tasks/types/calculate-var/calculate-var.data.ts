import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  registerDecorator,
  ValidateNested,
} from 'class-validator';
import { VAR_METHODS, type VarMethod } from './var-request';

/** Largest inputs accepted: enough for real portfolios, small enough to run in seconds. */
export const VAR_LIMITS = { assets: 200, observations: 20_000, simulations: 1_000_000 } as const;

export class PositionData {
  @ApiProperty({ example: 'AAPL', description: 'Asset name; unique within the portfolio.' })
  @IsString()
  @Length(1, 64)
  asset!: string;

  @ApiProperty({
    example: 250000,
    description: 'Market value in the portfolio currency; negative for a short position.',
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;
}

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

/** `{asset: number[]}` with every series of finite numbers, at most `max` long. */
function IsReturnSeries(max: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isReturnSeries',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.values(value).every((s) => Array.isArray(s) && s.length <= max && s.every(finite)),
        defaultMessage: () =>
          `must map each asset to an array of at most ${max} daily returns (finite numbers), e.g. {"AAPL": [0.01, -0.02]}`,
      },
    });
}

/** A square-ish array of arrays of finite numbers (the exact shape is checked against the positions). */
function IsNumberMatrix(max: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isNumberMatrix',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) &&
          value.length <= max &&
          value.every((row) => Array.isArray(row) && row.length <= max && row.every(finite)),
        defaultMessage: () => 'must be an array of rows, each an array of finite numbers',
      },
    });
}

/** Input of `calculate_var`; see docs/tasks.md. */
export class CalculateVarData {
  @ApiProperty({ enum: VAR_METHODS, example: 'parametric' })
  @IsIn(VAR_METHODS, { message: `must be one of ${VAR_METHODS.join(', ')}` })
  method!: VarMethod;

  @ApiProperty({ type: [PositionData] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(VAR_LIMITS.assets)
  @ValidateNested({ each: true })
  @Type(() => PositionData)
  positions!: PositionData[];

  @ApiPropertyOptional({
    description: 'Daily simple returns per asset, oldest first, all series of one length.',
    example: { AAPL: [0.012, -0.004, 0.007] },
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'number' } },
  })
  @IsOptional()
  @IsReturnSeries(VAR_LIMITS.observations)
  returns?: Record<string, number[]>;

  @ApiPropertyOptional({
    description: 'Daily mean return per position, in order (parametric, monte_carlo).',
    type: [Number],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(VAR_LIMITS.assets)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  mean?: number[];

  @ApiPropertyOptional({
    description:
      'Daily covariance of returns, one row and column per position in order (parametric, monte_carlo).',
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    example: [[0.0004]],
  })
  @IsOptional()
  @IsNumberMatrix(VAR_LIMITS.assets)
  covariance?: number[][];

  @ApiPropertyOptional({ minimum: 0.9, maximum: 0.999, default: 0.99 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.9)
  @Max(0.999)
  confidence: number = 0.99;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 250,
    default: 1,
    description: 'Horizon in trading days.',
  })
  @IsInt()
  @Min(1)
  @Max(250)
  horizon_days: number = 1;

  @ApiPropertyOptional({ minimum: 1000, maximum: VAR_LIMITS.simulations, default: 10000 })
  @IsOptional()
  @IsInt()
  @Min(1000)
  @Max(VAR_LIMITS.simulations)
  simulations?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 4294967295,
    default: 1,
    description: 'Seed of the Monte Carlo draws: same seed, same result.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4294967295)
  seed?: number;
}
