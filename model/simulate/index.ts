export { simulateBusiness, simulateCustomers, simulationWindow, monthlyChurnRates, SimulationOptions, DEFAULT_SIMULATION_END, SIMULATOR_VERSION } from './simulateBusiness.ts';
export type { SimulatedBusiness, SimulationWindow } from './simulateBusiness.ts';
export type { CustomerTruth, SimulatedCustomer } from './customer.ts';
export type { ChurnCause, PlanName } from './catalog.ts';
export { Random, deriveSeed } from './random.ts';
