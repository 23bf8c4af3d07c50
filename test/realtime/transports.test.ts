/**
 * @module The behaviour suite (`suite.ts`) against our layer, over every transport.
 */
import { startIO } from '../helpers/realtime.ts'
import { transportSuite } from './suite.ts'

transportSuite(startIO)
