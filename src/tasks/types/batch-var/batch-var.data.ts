import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { CalculateVarData } from '../calculate-var/calculate-var.data';

export const MAX_BATCH = 100;

/** Input of `batch_var`: one `calculate_var` input per portfolio. */
export class BatchVarData {
  @ApiProperty({ type: [CalculateVarData], minItems: 1, maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  @ValidateNested({ each: true })
  @Type(() => CalculateVarData)
  portfolios!: CalculateVarData[];
}
