/** `gatehouse init DIR`: a new app from the template (templates/app). */
import { Command } from 'commander';
import { GatehouseError } from '../../common/errors.js';
import { withExamples } from '../cli-kit.js';

export function initCommand(): Command {
  const cmd = new Command('init')
    .description('make a new app in DIR: one actor kind, one route, one test; runs with npm start and npm test')
    .argument('<dir>', 'a new (or empty) directory')
    .action(async (dir: string) => {
      throw new GatehouseError('USAGE', `init ${dir}: not built yet`);
    });
  return withExamples(cmd, ['gatehouse init my-app && cd my-app && npm test && npm start']);
}
