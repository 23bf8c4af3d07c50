CREATE TABLE `node_heartbeats` (
	`node_id` text PRIMARY KEY NOT NULL,
	`alive_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `node_users` (
	`node_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`node_id`, `user_id`)
);
