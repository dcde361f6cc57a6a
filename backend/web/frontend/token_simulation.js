// Bundled by scripts/build_static.sh (esbuild) into static/web/vendor/bpmn-js/token-simulation.js:
// bpmn-js-token-simulation's modeler module as a global, for the prebuilt bpmn-js modeler bundle.
import TokenSimulationModule from "bpmn-js-token-simulation/lib/modeler";

window.custflowTokenSimulation = TokenSimulationModule;
