export type { ChurnCause, PlanName } from './catalog.ts';
export { deriveSeed, Random } from './random.ts';
export type { SimulatedBusiness, SimulationWindow } from './simulateBusiness.ts';
export {
  DEFAULT_SIMULATION_END,
  monthlyChurnRates,
  SIMULATOR_VERSION,
  SimulationOptions,
  simulateBusiness,
  simulateCustomers,
  simulationWindow,
} from './simulateBusiness.ts';
export type { CustomerTruth, SimulatedCustomer } from './types.ts';
