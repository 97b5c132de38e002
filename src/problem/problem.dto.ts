import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldProblemView {
  @ApiProperty({
    example: '/data/confidence',
    description: 'JSON pointer (RFC 6901) into the request body.',
  })
  pointer!: string;

  @ApiProperty({ example: 'must not be greater than 0.999' })
  detail!: string;
}

/** An RFC 9457 problem document, as every error response of the API. */
export class ProblemView {
  @ApiProperty({ example: 'about:blank' })
  type!: string;

  @ApiProperty({ example: 'Bad Request' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: '/type must be one of calculate_var, batch_var, echo' })
  detail!: string;

  @ApiProperty({ example: '/api/v1/tasks' })
  instance!: string;

  @ApiPropertyOptional({
    type: [FieldProblemView],
    description: 'Each invalid field, for 400 and 422.',
  })
  errors?: FieldProblemView[];
}
