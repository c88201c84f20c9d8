export type { ChurnCause, PlanName } from './catalog.ts';
export type { AfterExitContact, ContactedCustomer } from './exitBehaviour.ts';
export {
  EXIT_REASON_MIX,
  EXIT_SURVEY_ANSWER_SHARE,
  REASON_RECORDED_SHARE,
  simulateAfterExitResponse,
  WIN_BACK_RETURN_CHANCE,
  winBackReturnChance,
} from './exitBehaviour.ts';
export { deriveSeed, Random } from './random.ts';
export type { SimulatedBusiness, SimulationWindow } from './simulateBusiness.ts';
export {
  DEFAULT_SIMULATION_END,
  monthlyChurnRates,
  SIMULATOR_VERSION,
  SimulationOptions,
  simulateBusiness,
  simulateCustomer,
  simulateCustomers,
  simulatedCustomerIndex,
  simulationWindow,
  type TreatmentsOf,
} from './simulateBusiness.ts';
export { outreachSaves, TRUE_PLAYBOOK_EFFECTS, type Treatment, type TreatmentTruth } from './treatment.ts';
export type { CustomerTruth, SimulatedCustomer } from './types.ts';
